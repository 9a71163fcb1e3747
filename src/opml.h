/* opml.h: being written. */
#ifndef FEEDMUX_OPML_H
#define FEEDMUX_OPML_H
#endif
