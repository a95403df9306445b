#ifndef CEDITLINE_SHIM_H
#define CEDITLINE_SHIM_H

/* libedit's native API and its readline-compatible layer. This must be <editline/readline.h>:
   <readline/readline.h> is GNU readline, which ks does not link. The library itself is linked by
   the KSTerminal target (dynamically, or statically with KS_STATIC_LIBEDIT=1), so this module map
   has no `link` line. */
#include <stdio.h>
#include <histedit.h>
#include <editline/readline.h>

#endif
