/* reset.h through port 0xCF9 instead of the i8042 (see there). */
#define RESET_CF9
#include "reset.h"
