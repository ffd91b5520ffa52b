; A distilled placement scorer (emurl distill): A = the score (0-255) of one placement.
; In: its features, one byte each, at TREE_FEATURES. Clobbers A and the flags.
; TREE_FEATURES+0: vert
; TREE_FEATURES+1: x
; TREE_FEATURES+2: land
; TREE_FEATURES+3: gap
; TREE_FEATURES+4: va
; TREE_FEATURES+5: vb
; TREE_FEATURES+6: ha
; TREE_FEATURES+7: hb
; TREE_FEATURES+8: run
; TREE_FEATURES+9: bury_a
; TREE_FEATURES+10: bury_b
; TREE_FEATURES+11: top
; TREE_FEATURES+12: same
; TREE_FEATURES+13: spawn
; TREE_FEATURES+14: virus
; TREE_FEATURES+15: lines
; TREE_FEATURES+16: halves
; TREE_FEATURES+17: touch
; TREE_FEATURES+18: cover
; TREE_FEATURES+19: holes
; TREE_FEATURES+20: height
; TREE_FEATURES+21: danger
; TREE_FEATURES+22: lag
.ifndef TREE_FEATURES
TREE_FEATURES = $0060
.endif
.export tree_score
.segment "CODE"
.proc tree_score
        lda <(TREE_FEATURES+22)
        cmp #1
        bcc *+5
        jmp @n2
        lda <(TREE_FEATURES+17)
        cmp #2
        bcc *+5
        jmp @n4
        lda <(TREE_FEATURES+2)
        cmp #2
        bcs @n6
        lda <(TREE_FEATURES+8)
        cmp #4
        bcs @n10
        lda <(TREE_FEATURES+1)
        cmp #5
        bcs @n28
        lda <(TREE_FEATURES+1)
        cmp #2
        bcs @n30
        lda #19
        rts
@n30:
        lda #58
        rts
@n28:
        lda <(TREE_FEATURES+17)
        cmp #1
        bcs @n46
        lda #2
        rts
@n46:
        lda #25
        rts
@n10:
        lda <(TREE_FEATURES+12)
        cmp #1
        bcs @n34
        lda <(TREE_FEATURES+1)
        cmp #7
        bcs @n44
        lda #157
        rts
@n44:
        lda #255
        rts
@n34:
        lda #91
        rts
@n6:
        lda <(TREE_FEATURES+1)
        cmp #6
        bcs @n12
        lda <(TREE_FEATURES+1)
        cmp #1
        bcs @n14
        lda <(TREE_FEATURES+4)
        cmp #4
        bcs @n16
        lda #55
        rts
@n16:
        lda #124
        rts
@n14:
        lda <(TREE_FEATURES+5)
        cmp #2
        bcs @n20
        lda #121
        rts
@n20:
        lda #96
        rts
@n12:
        lda <(TREE_FEATURES+16)
        cmp #2
        bcs @n22
        lda <(TREE_FEATURES+11)
        cmp #7
        bcs @n24
        lda #22
        rts
@n24:
        lda #76
        rts
@n22:
        lda <(TREE_FEATURES+4)
        cmp #2
        bcs @n32
        lda #153
        rts
@n32:
        lda #78
        rts
@n4:
        lda <(TREE_FEATURES+12)
        cmp #1
        bcs @n8
        lda <(TREE_FEATURES+1)
        cmp #6
        bcs @n18
        lda <(TREE_FEATURES+11)
        cmp #8
        bcs @n26
        lda <(TREE_FEATURES+17)
        cmp #3
        bcs @n42
        lda #181
        rts
@n42:
        lda #226
        rts
@n26:
        lda <(TREE_FEATURES+1)
        cmp #1
        bcs @n40
        lda #175
        rts
@n40:
        lda #248
        rts
@n18:
        lda <(TREE_FEATURES+17)
        cmp #3
        bcs @n36
        lda <(TREE_FEATURES+11)
        cmp #7
        bcs @n38
        lda #116
        rts
@n38:
        lda #181
        rts
@n36:
        lda <(TREE_FEATURES+20)
        cmp #10
        bcs @n48
        lda #191
        rts
@n48:
        lda #255
        rts
@n8:
        lda #103
        rts
@n2:
        lda <(TREE_FEATURES+20)
        cmp #16
        bcs @n50
        lda #0
        rts
@n50:
        lda <(TREE_FEATURES+17)
        cmp #2
        bcs @n52
        lda #1
        rts
@n52:
        lda <(TREE_FEATURES+1)
        cmp #5
        bcs @n54
        lda <(TREE_FEATURES+2)
        cmp #10
        bcs @n56
        lda #5
        rts
@n56:
        lda <(TREE_FEATURES+22)
        cmp #141
        bcs @n58
        lda #79
        rts
@n58:
        lda #8
        rts
@n54:
        lda #58
        rts
.endproc
