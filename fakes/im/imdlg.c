/* imdlg: requests inside a dialog of the lab IM service (sessions and subscriptions alike). */
#include <string.h>

#include "im_int.h"

void imdlg_request(struct imdlg *g, struct imreq *r, const char *method)
{
	int i;

	memset(r, 0, sizeof(*r));
	r->method = method;
	r->ruri = g->remote_target;
	r->from_aor = g->local_aor;
	r->from_tag = g->local_tag;
	r->to_aor = g->remote_aor;
	r->to_tag = g->remote_tag;
	r->call_id = g->call_id;
	r->cseq = ++g->local_cseq;
	for (i = 0; i < g->nroute; i++)
		r->route[i] = g->route[i];
	r->nroute = g->nroute;
}
