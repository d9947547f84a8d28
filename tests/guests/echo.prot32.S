/* Console input, polled: see echo.h. */
#include "echo.h"
