dnl FEEDMUX_CHECK_LIB(VAR, PKG-SPEC, FUNCTION, HEADER)
dnl Find a library with pkg-config, then prove it links and its header
dnl compiles, so a broken -dev package fails at configure time.
AC_DEFUN([FEEDMUX_CHECK_LIB], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([$2 not found by pkg-config; on Debian install its -dev package (see README.md)])])
  feedmux_save_CFLAGS=$CFLAGS
  feedmux_save_LIBS=$LIBS
  CFLAGS="$CFLAGS $$1_CFLAGS"
  LIBS="$$1_LIBS $LIBS"
  AC_MSG_CHECKING([whether $3 links from $2])
  AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <$4>]], [[void *p = (void *)&$3; return p == 0;]])],
    [AC_MSG_RESULT([yes])],
    [AC_MSG_RESULT([no]); AC_MSG_ERROR([cannot link $3 from $2])])
  CFLAGS=$feedmux_save_CFLAGS
  LIBS=$feedmux_save_LIBS
])
