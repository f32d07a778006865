/* mps: stub, being written. */
#include "mps.h"
