@ MiniKart ARM9 start code: IRQs off, DTCM at 0x0B000000 holding the stacks,
@ protection unit with instruction cache and write-through data cache for main RAM
@ (no write buffer: every store reaches main RAM at once, so RAM always holds the
@ game state), clear .bss and the fixed-address globals, then main().
    .section .crt0, "ax"
    .arm
    .global _start
_start:
    mov     r0, #0x04000000
    mov     r1, #0
    str     r1, [r0, #0x208]        @ IME = 0
    str     r1, [r0, #0x210]        @ IE = 0
    mvn     r1, #0
    str     r1, [r0, #0x214]        @ IF: acknowledge everything


    @ protection unit off, caches off while it is set up
    mrc     p15, 0, r0, c1, c0, 0
    bic     r0, r0, #(1 << 0)       @ PU
    bic     r0, r0, #(1 << 2)       @ DCache
    bic     r0, r0, #(1 << 12)      @ ICache
    mcr     p15, 0, r0, c1, c0, 0
    mov     r0, #0
    mcr     p15, 0, r0, c7, c5, 0   @ invalidate instruction cache
    mcr     p15, 0, r0, c7, c6, 0   @ invalidate data cache
    mcr     p15, 0, r0, c7, c10, 4  @ drain write buffer

    @ region 0: whole 4 GiB, region 1: main RAM 0x02000000 4 MiB; regions 2-7 off
    ldr     r0, =(0x00000000 | (31 << 1) | 1)
    mcr     p15, 0, r0, c6, c0, 0
    ldr     r0, =(0x02000000 | (21 << 1) | 1)
    mcr     p15, 0, r0, c6, c1, 0
    mov     r0, #0
    mcr     p15, 0, r0, c6, c2, 0
    mcr     p15, 0, r0, c6, c3, 0
    mcr     p15, 0, r0, c6, c4, 0
    mcr     p15, 0, r0, c6, c5, 0
    mcr     p15, 0, r0, c6, c6, 0
    mcr     p15, 0, r0, c6, c7, 0
    mcr     p15, 0, r0, c3, c0, 0   @ no write-buffered regions: write-through
    mov     r0, #(1 << 1)
    mcr     p15, 0, r0, c2, c0, 0   @ data cacheable: region 1 (main RAM)
    mcr     p15, 0, r0, c2, c0, 1   @ instruction cacheable: region 1
    ldr     r0, =0x33333333
    mcr     p15, 0, r0, c5, c0, 2   @ data access: full for all regions
    mcr     p15, 0, r0, c5, c0, 3   @ instruction access: full for all regions
    ldr     r0, =0x0B00000A
    mcr     p15, 0, r0, c9, c1, 0   @ DTCM: 16 KiB at 0x0B000000
    mrc     p15, 0, r0, c1, c0, 0
    orr     r0, r0, #(1 << 0)       @ PU on
    orr     r0, r0, #(1 << 2)       @ DCache on (write-through, see above)
    orr     r0, r0, #(1 << 12)      @ ICache on
    orr     r0, r0, #(1 << 16)      @ DTCM on
    bic     r0, r0, #(1 << 17)      @ DTCM load mode off
    mcr     p15, 0, r0, c1, c0, 0

    msr     cpsr_c, #0xD2           @ IRQ mode, IRQ/FIQ masked
    ldr     sp, =__sp_irq
    msr     cpsr_c, #0xD3           @ SVC mode
    ldr     sp, =__sp_svc
    msr     cpsr_c, #0xDF           @ System mode, IRQ/FIQ masked in CPSR
    ldr     sp, =__sp_sys

    ldr     r0, =__bss_start
    ldr     r1, =__bss_end
    bl      zero_words
    ldr     r0, =__globals_start
    ldr     r1, =__globals_end
    bl      zero_words

    ldr     r0, =main
    blx     r0
1:  b       1b

zero_words:
    mov     r2, #0
2:  cmp     r0, r1
    strlo   r2, [r0], #4
    blo     2b
    bx      lr

@ void cpu_halt(void): CP15 wait for interrupt; wakes when (IE & IF) != 0.
    .global cpu_halt
    .type cpu_halt, %function
cpu_halt:
    mov     r0, #0
    mcr     p15, 0, r0, c7, c0, 4
    bx      lr
    .pool
