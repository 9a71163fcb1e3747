/* version.h: the version and the identity feedmux presents to publishers. */
#ifndef FEEDMUX_VERSION_H
#define FEEDMUX_VERSION_H

#include "build.h"

#define FEEDMUX_VERSION PACKAGE_VERSION
#define FEEDMUX_URL PACKAGE_URL
#define FEEDMUX_USER_AGENT "feedmux/" PACKAGE_VERSION " (+" PACKAGE_URL ")"

#endif
