#!/usr/bin/env python3
"""A knhk queue worker using only the standard library. It long-polls the queue of
`task charge(order: string, cents: int) -> Receipt queue "billing"` (billing.knhk)
through knhk serve's JSON API, heartbeats while it works, and completes or fails."""
import json, os, threading, time, urllib.error, urllib.request

SERVER, QUEUE = os.environ.get("KNHK_SERVER", "http://127.0.0.1:7233"), os.environ.get("KNHK_QUEUE", "billing")
HEADERS = {"Content-Type": "application/json", **({"Authorization": "Bearer " + os.environ["KNHK_TOKEN"]} if "KNHK_TOKEN" in os.environ else {})}

def call(method, **body):  # one Connect JSON call: POST /knhk.v1.KnhkService/<Method>
    req = urllib.request.Request(f"{SERVER}/knhk.v1.KnhkService/{method}", json.dumps(body).encode(), HEADERS)
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.load(resp)

def charge(args, key):  # the work; apply its effects once per key, the attempt's idempotency key
    return {"id": f"rcpt-{args['order']}", "cents": args["cents"]}

while True:
    try:
        task = call("PollTask", queue=QUEUE, workerId=f"py-{os.getpid()}", waitMs=20000).get("task")
    except (urllib.error.URLError, OSError) as e:  # server restarting: try again shortly
        print("poll:", e, flush=True); time.sleep(1); continue
    if not task:
        continue
    lease, done = {"id": task["id"], "leaseToken": task["leaseToken"]}, threading.Event()
    threading.Thread(target=lambda: [call("Heartbeat", **lease) for _ in iter(lambda: done.wait(2), True)], daemon=True).start()
    try:
        end = "CompleteTask", {"resultJson": json.dumps(charge(json.loads(task["inputJson"]), task["id"]))}
    except Exception as e:  # the work failed: the engine retries per the task's clauses
        end = "FailTask", {"message": str(e)}
    try:
        call(end[0], **end[1], **lease)
    except urllib.error.HTTPError as e:  # refused: the lease was lost, or the result has the wrong type
        print(end[0], "refused:", e.read().decode(), flush=True)
    except OSError as e:  # server unreachable: the lease runs out and the engine retries
        print(end[0], "failed:", e, flush=True)
    done.set()
