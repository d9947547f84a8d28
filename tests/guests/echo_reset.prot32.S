/* echo.h after a FIFO reset, as Linux's driver does one (see there). */
#define FIFO_RESET_FIRST
#include "echo.h"
