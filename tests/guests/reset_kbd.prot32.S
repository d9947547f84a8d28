/* A guest reset through the i8042: see reset.h. */
#include "reset.h"
