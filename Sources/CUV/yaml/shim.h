#ifndef WARD_CYAML_SHIM_H
#define WARD_CYAML_SHIM_H
#include <yaml.h>
#endif
