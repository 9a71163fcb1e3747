/* story.h: being written. */
#ifndef FEEDMUX_STORY_H
#define FEEDMUX_STORY_H
#endif
