/* ed: stub, being written. */
#include "ed.h"
