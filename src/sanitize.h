/* sanitize.h: being written. */
#ifndef FEEDMUX_SANITIZE_H
#define FEEDMUX_SANITIZE_H
#endif
