#!/usr/bin/env python3
"""A knhk queue worker in standard-library Python: it long-polls queue "billing" of knhk serve (billing.knhk)
through the JSON API, heartbeats while it works, and completes or fails each task. Run: KNHK_SERVER=URL worker.py"""
import json, os, threading, time, urllib.error, urllib.request

SERVER, QUEUE = os.environ.get("KNHK_SERVER", "http://127.0.0.1:7233"), os.environ.get("KNHK_QUEUE", "billing")
HEADERS = {"Content-Type": "application/json", **({"Authorization": "Bearer " + os.environ["KNHK_TOKEN"]} if "KNHK_TOKEN" in os.environ else {})}

def call(method, **body):  # one Connect JSON call: POST /knhk.v1.KnhkService/<Method>
    req = urllib.request.Request(f"{SERVER}/knhk.v1.KnhkService/{method}", json.dumps(body).encode(), HEADERS)
    with urllib.request.urlopen(req, timeout=90) as resp:
        return json.load(resp)

def charge(args, key):  # the work; apply its effects once per key, the attempt's idempotency key
    return {"id": f"rcpt-{args['order']}", "cents": args["cents"]}

while True:
    try:
        task = call("PollTask", queue=QUEUE, worker=f"py-{os.getpid()}", timeoutMs=20000).get("task")
    except OSError as e:  # the server is restarting: try again shortly
        print("poll:", e, flush=True); time.sleep(1); continue
    if not task:
        continue
    lease, done = {"id": task["id"], "token": task["token"]}, threading.Event()
    every = max(0.05, (int(task["leaseDeadlineUnixNano"]) / 1e9 - time.time()) / 3)  # a third of the lease
    beat = lambda lease=lease, done=done, every=every: [call("Heartbeat", **lease) for _ in iter(lambda: done.wait(every), True)]
    threading.Thread(target=beat, daemon=True).start()
    try:
        end = "CompleteTask", {"resultJson": json.dumps(charge(json.loads(task["inputJson"]), task["id"]))}
    except Exception as e:  # the work failed: the engine retries per the task's clauses
        end = "FailTask", {"message": str(e)}
    try:
        call(end[0], **end[1], **lease)
    except OSError as e:  # refused (lease lost, mistyped result) or unreachable: the engine retries
        print(end[0], "failed:", e.read().decode() if hasattr(e, "read") else e, flush=True)
    done.set()
