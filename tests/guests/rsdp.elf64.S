/* The ACPI tables of a --kernel boot (see rsdp.h). */
#include "rsdp.h"
