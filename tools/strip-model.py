#!/usr/bin/env python3
"""Writes the parts of a botocore service model that m2sec validates against (shapes, operations with
their HTTP binding, errors and host prefix, metadata; no documentation) to crates/proto/models/<service>.json.

Usage: tools/strip-model.py kms 2014-11-01
The source is the botocore package installed on the machine (Apache-2.0, see crates/proto/models/NOTICE).
"""
import gzip, json, os, sys

import botocore

service, version = sys.argv[1], sys.argv[2]
src = os.path.join(os.path.dirname(botocore.__file__), "data", service, version, "service-2.json.gz")
with gzip.open(src) as f:
    model = json.load(f)

DROP = {"documentation", "documentationUrl", "examples", "deprecatedMessage"}

def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in DROP}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node

out = {
    "botocoreVersion": botocore.__version__,
    "metadata": strip(model["metadata"]),
    "operations": {name: {k: strip(op[k]) for k in ("name", "http", "input", "output", "errors", "endpoint") if k in op}
                   for name, op in model["operations"].items()},
    "shapes": strip(model["shapes"]),
}
dest = os.path.join(os.path.dirname(__file__), "..", "crates", "proto", "models", f"{service}.json")
with open(dest, "w") as f:
    json.dump(out, f, indent=None, separators=(",", ":"), sort_keys=True)
    f.write("\n")
print(dest, os.path.getsize(dest))
