/* vehicle-worker: a FastCGI responder, started by spawn-fcgi (see scripts/lib/stack.sh). */
#include "worker.h"

int main(void)
{
	return worker_run();
}
