/* topic.h: being written. */
#ifndef FEEDMUX_TOPIC_H
#define FEEDMUX_TOPIC_H
#endif
