/* obs: stub, being written. */
#include "obs.h"
