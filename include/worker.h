/* The FastCGI worker: accept loop on fd 0 (spawn-fcgi's socket), one request at a time. */
#ifndef VS_WORKER_H
#define VS_WORKER_H

struct config;

/* Runs until SIGTERM/SIGINT with cfg (config_load'ed); returns the process exit code. */
int worker_run(const struct config *cfg);

#endif
