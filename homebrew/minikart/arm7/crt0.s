@ MiniKart ARM7: nothing to do; halt forever (IE = 0, so it never wakes).
    .section .crt0, "ax"
    .arm
    .global _start
_start:
    mov     r0, #0x04000000
    mov     r1, #0
    str     r1, [r0, #0x208]        @ IME = 0
    str     r1, [r0, #0x210]        @ IE = 0
    mov     r1, #0x80
1:  strb    r1, [r0, #0x301]        @ HALTCNT = halt
    b       1b
