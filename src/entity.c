/* Entity names, as the SQL enum vehicles.entity_type spells them. */
#include "entity.h"

const char *entity_name(enum entity e)
{
	return e == ENTITY_PART ? "part" : "bike";
}
