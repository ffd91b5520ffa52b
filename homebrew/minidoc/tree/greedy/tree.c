/* A distilled placement scorer (emurl distill); f: one placement's features, one byte each. */
/* f[0]: vert */
/* f[1]: x */
/* f[2]: land */
/* f[3]: gap */
/* f[4]: va */
/* f[5]: vb */
/* f[6]: ha */
/* f[7]: hb */
/* f[8]: run */
/* f[9]: bury_a */
/* f[10]: bury_b */
/* f[11]: top */
/* f[12]: same */
/* f[13]: spawn */
/* f[14]: virus */
/* f[15]: lines */
/* f[16]: halves */
/* f[17]: touch */
/* f[18]: cover */
/* f[19]: holes */
/* f[20]: height */
/* f[21]: danger */
/* f[22]: lag */
unsigned char emurl_tree(const unsigned char *f)
{
    if (f[22] <= 0) {
        if (f[17] <= 1) {
            if (f[2] <= 1) {
                if (f[8] <= 3) {
                    if (f[1] <= 4) {
                        if (f[1] <= 1) {
                            return 19;
                        } else {
                            return 58;
                        }
                    } else {
                        if (f[17] <= 0) {
                            return 2;
                        } else {
                            return 25;
                        }
                    }
                } else {
                    if (f[12] <= 0) {
                        if (f[1] <= 6) {
                            return 157;
                        } else {
                            return 255;
                        }
                    } else {
                        return 91;
                    }
                }
            } else {
                if (f[1] <= 5) {
                    if (f[1] <= 0) {
                        if (f[4] <= 3) {
                            return 55;
                        } else {
                            return 124;
                        }
                    } else {
                        if (f[5] <= 1) {
                            return 121;
                        } else {
                            return 96;
                        }
                    }
                } else {
                    if (f[16] <= 1) {
                        if (f[11] <= 6) {
                            return 22;
                        } else {
                            return 76;
                        }
                    } else {
                        if (f[4] <= 1) {
                            return 153;
                        } else {
                            return 78;
                        }
                    }
                }
            }
        } else {
            if (f[12] <= 0) {
                if (f[1] <= 5) {
                    if (f[11] <= 7) {
                        if (f[17] <= 2) {
                            return 181;
                        } else {
                            return 226;
                        }
                    } else {
                        if (f[1] <= 0) {
                            return 175;
                        } else {
                            return 248;
                        }
                    }
                } else {
                    if (f[17] <= 2) {
                        if (f[11] <= 6) {
                            return 116;
                        } else {
                            return 181;
                        }
                    } else {
                        if (f[20] <= 9) {
                            return 191;
                        } else {
                            return 255;
                        }
                    }
                }
            } else {
                return 103;
            }
        }
    } else {
        if (f[20] <= 15) {
            return 0;
        } else {
            if (f[17] <= 1) {
                return 1;
            } else {
                if (f[1] <= 4) {
                    if (f[2] <= 9) {
                        return 5;
                    } else {
                        if (f[22] <= 140) {
                            return 79;
                        } else {
                            return 8;
                        }
                    }
                } else {
                    return 58;
                }
            }
        }
    }
}
