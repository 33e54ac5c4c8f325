/* The FastCGI worker: accept loop on fd 0 (spawn-fcgi's socket), one request at a time. */
#ifndef VS_WORKER_H
#define VS_WORKER_H

/* Runs until SIGTERM/SIGINT; returns the process exit code. */
int worker_run(void);

#endif
