/* The FastCGI worker: accept loop on fd 0 (spawn-fcgi's socket), one request at a time. */
#ifndef VS_WORKER_H
#define VS_WORKER_H

struct config;

/* Runs with cfg (config_load'ed) until SIGTERM/SIGINT/SIGUSR1, each of which lets the
 * request in hand finish. ready_fd >= 0 (the master's pipe): one byte is written there, and
 * it is closed, once the worker serves. Returns the process exit code. */
int worker_run(const struct config *cfg, int ready_fd);

#endif
