/*
 * dir_verbs.h - the directory's verbs (node/dir_verbs.c).
 */
#ifndef RELAY_DIR_VERBS_H
#define RELAY_DIR_VERBS_H

#include "api.h"

json_t *dir_change_verb(struct api_req *r); /* POST /api/v1/directory/changes */
json_t *dir_export_verb(struct api_req *r); /* GET /api/v1/directory/export */
json_t *dir_list_verb(struct api_req *r);   /* GET /api/v1/directory */

#endif
