/* No ACPI tables for a --raw boot (see rsdp.h). */
#include "rsdp.h"
