/* ff: stub, being written. */
#include "ff.h"
