dnl FEEDMUX_CFLAGS_C17: compile as C17 (gnu17 for POSIX extensions).
AC_DEFUN([FEEDMUX_CFLAGS_C17], [
  AC_MSG_CHECKING([whether $CC accepts -std=gnu17])
  feedmux_save_CFLAGS=$CFLAGS
  CFLAGS="$CFLAGS -std=gnu17"
  AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
    [AC_MSG_RESULT([yes])],
    [AC_MSG_RESULT([no]); AC_MSG_ERROR([a C17 compiler is required])])
  CFLAGS=$feedmux_save_CFLAGS
  AM_CFLAGS_STD="-std=gnu17"
  AC_SUBST([AM_CFLAGS_STD])
])
