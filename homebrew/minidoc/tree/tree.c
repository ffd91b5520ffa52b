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
    if (f[5] <= 2) {
        if (f[4] <= 2) {
            if (f[17] <= 0) {
                if (f[14] <= 0) {
                    return 0;
                } else {
                    return 115;
                }
            } else {
                if (f[19] <= 4) {
                    if (f[5] <= 1) {
                        return 1;
                    } else {
                        return 10;
                    }
                } else {
                    if (f[6] <= 1) {
                        return 59;
                    } else {
                        return 1;
                    }
                }
            }
        } else {
            if (f[5] <= 1) {
                if (f[3] <= 2) {
                    if (f[1] <= 0) {
                        if (f[22] <= 0) {
                            return 97;
                        } else {
                            return 32;
                        }
                    } else {
                        return 10;
                    }
                } else {
                    if (f[12] <= 0) {
                        if (f[22] <= 20) {
                            return 143;
                        } else {
                            return 90;
                        }
                    } else {
                        return 0;
                    }
                }
            } else {
                if (f[22] <= 47) {
                    return 196;
                } else {
                    return 34;
                }
            }
        }
    } else {
        if (f[22] <= 0) {
            if (f[12] <= 0) {
                if (f[9] <= 0) {
                    if (f[3] <= 0) {
                        return 232;
                    } else {
                        if (f[3] <= 1) {
                            return 124;
                        } else {
                            return 202;
                        }
                    }
                } else {
                    if (f[1] <= 5) {
                        return 63;
                    } else {
                        return 255;
                    }
                }
            } else {
                if (f[2] <= 1) {
                    return 69;
                } else {
                    return 112;
                }
            }
        } else {
            if (f[12] <= 0) {
                if (f[9] <= 0) {
                    if (f[22] <= 31) {
                        if (f[22] <= 6) {
                            return 243;
                        } else {
                            return 135;
                        }
                    } else {
                        if (f[19] <= 4) {
                            return 37;
                        } else {
                            return 161;
                        }
                    }
                } else {
                    return 13;
                }
            } else {
                if (f[22] <= 8) {
                    if (f[16] <= 1) {
                        if (f[22] <= 2) {
                            return 113;
                        } else {
                            return 40;
                        }
                    } else {
                        return 3;
                    }
                } else {
                    return 7;
                }
            }
        }
    }
}
