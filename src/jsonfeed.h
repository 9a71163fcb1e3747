/* jsonfeed.h: being written. */
#ifndef FEEDMUX_JSONFEED_H
#define FEEDMUX_JSONFEED_H
#endif
