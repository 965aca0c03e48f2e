"""Scrapes a relay's metrics endpoint and parses the Prometheus text exposition with the
prometheus_client library (an independent parser), printing one JSON line:
{"status": 200, "contentType": "...", "types": {family: type}, "samples": {"name{k=\"v\"}": value}}.

    python scrape_metrics.py http://127.0.0.1:PORT/metrics

The parser is first shown a broken exposition it must reject, so a parser that accepts anything
cannot pass for a check."""
import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def parse(text):
    types, samples = {}, {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[sample.name + ("{" + labels + "}" if labels else "")] = sample.value
    return types, samples


try:
    parse('cable_relay_refused_total{reason="unknown_tunnel} 1\n')
except ValueError:
    pass
else:
    print(json.dumps({"error": "the parser accepted a broken exposition"}))
    sys.exit(1)

with urllib.request.urlopen(sys.argv[1], timeout=20) as response:
    status = response.status
    content_type = response.headers.get("Content-Type")
    text = response.read().decode("utf-8")
types, samples = parse(text)
print(json.dumps({"status": status, "contentType": content_type, "types": types, "samples": samples}))
