; MiniDoc start-up (ca65): iNES header, reset, NMI (VRAM queue, OAM DMA, frame counter),
; controller reading. The C side is in *.c; see minidoc.h for the RAM map.

        .export __STARTUP__ : absolute = 1
        .export _wait_frame, _read_pads, _changed_rows
        .exportzp _nmi_count, _nmi_ready, _nmi_busy, _nmi_mask
        .import _main, _vq, zerobss, copydata
        .import __STACK_START__, __STACK_SIZE__
        .include "zeropage.inc"

PPUCTRL   = $2000
PPUMASK   = $2001
PPUSTATUS = $2002
OAMADDR   = $2003
PPUSCROLL = $2005
PPUADDR   = $2006
PPUDATA   = $2007
OAMDMA    = $4014
JOY1      = $4016
JOY2      = $4017

FRAME     = $43             ; Dr. Mario's frame counter
PRESSED1  = $F5             ; buttons pressed this frame, P1 / P2
PRESSED2  = $F6
HELD1     = $F7             ; buttons held, P1 / P2
HELD2     = $F8

        .segment "HEADER"
        .byte "NES", $1A
        .byte 2             ; 2 x 16 KiB PRG
        .byte 1             ; 1 x 8 KiB CHR
        .byte $00, $00      ; mapper 0 (NROM), horizontal mirroring, no battery
        .byte 0, 0, 0, 0, 0, 0, 0, 0

        .segment "ZEROPAGE"
_nmi_count: .res 1          ; +1 every NMI
_nmi_ready: .res 1          ; main: the VRAM queue is complete; NMI: done, 0
_nmi_busy:  .res 1          ; main is writing the PPU with rendering off: NMI keeps out
_nmi_mask:  .res 1          ; PPUMASK written each NMI

        .segment "STARTUP"
reset:
        sei
        cld
        ldx #$40
        stx JOY2            ; no APU frame IRQ
        ldx #$FF
        txs
        inx
        stx PPUCTRL
        stx PPUMASK
        stx $4010
        bit PPUSTATUS
@vb1:   bit PPUSTATUS
        bpl @vb1
        txa
@clr:   sta $0000,x         ; all RAM to 0, OAM hidden
        sta $0100,x
        sta $0300,x
        sta $0400,x
        sta $0500,x
        sta $0600,x
        sta $0700,x
        inx
        bne @clr
        lda #$F0
@oam:   sta $0200,x
        inx
        bne @oam
@vb2:   bit PPUSTATUS
        bpl @vb2
        lda #<(__STACK_START__ + __STACK_SIZE__)
        sta sp
        lda #>(__STACK_START__ + __STACK_SIZE__)
        sta sp+1
        jsr zerobss
        jsr copydata
        lda #1
        sta _nmi_busy
        lda #$80
        sta PPUCTRL         ; NMI on
        jmp _main

nmi:
        pha
        txa
        pha
        tya
        pha
        lda _nmi_busy
        bne @out
        lda #0
        sta OAMADDR
        lda #$02
        sta OAMDMA          ; sprites from 0x0200
        lda _nmi_ready
        beq @mask
        ldx #0              ; the queue: [addr hi, addr lo, n, n tiles]..., hi >= 0x80 ends it
@entry: lda _vq,x
        bmi @done
        sta PPUADDR
        lda _vq+1,x
        sta PPUADDR
        ldy _vq+2,x
        inx
        inx
        inx
@byte:  lda _vq,x
        sta PPUDATA
        inx
        dey
        bne @byte
        beq @entry
@done:  lda #0
        sta _nmi_ready
@mask:  lda _nmi_mask
        sta PPUMASK
        lda #$80
        sta PPUCTRL
        bit PPUSTATUS
        lda #0
        sta PPUSCROLL
        sta PPUSCROLL
@out:   inc _nmi_count
        inc FRAME
        pla
        tay
        pla
        tax
        pla
irq:    rti

; void wait_frame(void): until the next NMI.
_wait_frame:
        lda _nmi_count
@w:     cmp _nmi_count
        beq @w
        rts

; void read_pads(void): both controllers; held -> 0xF7/0xF8, newly pressed -> 0xF5/0xF6.
; Bits: A 0x80, B 0x40, SELECT 0x20, START 0x10, UP 0x08, DOWN 0x04, LEFT 0x02, RIGHT 0x01.
_read_pads:
        lda HELD1
        sta tmp1
        lda HELD2
        sta tmp2
        lda #1
        sta JOY1
        lda #0
        sta JOY1
        ldx #8
@bit:   lda JOY1
        lsr a
        rol HELD1
        lda JOY2
        lsr a
        rol HELD2
        dex
        bne @bit
        lda tmp1
        eor #$FF
        and HELD1
        sta PRESSED1
        lda tmp2
        eor #$FF
        and HELD2
        sta PRESSED2
        rts

; u16 __fastcall__ changed_rows(u8 p): bit r set when row r of player p's playfield
; (0x0400 / 0x0500) differs from what the screen shows (0x0480 / 0x0580).
_changed_rows:
        cmp #0
        beq @p1
        lda #$05
        bne @go
@p1:    lda #$04
@go:    sta ptr1+1
        sta ptr2+1
        lda #$00
        sta ptr1
        lda #$80
        sta ptr2
        ldy #127
        ldx #16
@row:   lda #8
        sta tmp3
@cell:  lda (ptr1),y
        cmp (ptr2),y
        bne @diff
        dey
        dec tmp3
        bne @cell
        clc
        bcc @shift
@diff:  tya
        sec
        sbc tmp3
        tay
        sec
@shift: rol tmp1
        rol tmp2
        dex
        bne @row
        lda tmp1
        ldx tmp2
        rts

        .segment "VECTORS"
        .addr nmi, reset, irq

        .segment "CHARS"
        .incbin "chr.bin"
