/* sanitize.c: being written (placeholder so the tree builds). */
typedef int feedmux_placeholder_sanitize;
