/* spec: stub, being written. */
#include "spec.h"
