/*
 * The answer to a request nginx could not hand to a worker (502: the pool is at max_conns or
 * its queue is full), as `location = /_nginx/error/shed` in nginx.conf.in: 503 `unavailable`
 * after QUEUE_WAIT_MS ($vs_shed_ms), so that clients retrying in a loop do not spin. njs 0.7
 * (Debian 12).
 */
function shed(r) {
    const ms = parseInt(r.variables.vs_shed_ms, 10) || 0;
    const body = '{"error":"unavailable","message":"Service temporarily unavailable"}\n';
    if (ms <= 0) {
        r.return(503, body);
        return;
    }
    setTimeout(function () { r.return(503, body); }, ms);
}

export default {shed};
