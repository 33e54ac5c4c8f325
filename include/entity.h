/* What a path or body id can name that has an owner: a bike or a part. */
#ifndef VS_ENTITY_H
#define VS_ENTITY_H

enum entity {
	ENTITY_BIKE = 0,
	ENTITY_PART = 1,
};

/* "bike" or "part": the labels of the SQL enum vehicles.entity_type. */
const char *entity_name(enum entity e);

#endif
