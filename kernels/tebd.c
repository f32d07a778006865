/* tebd: stub, being written. */
#include "tebd.h"
