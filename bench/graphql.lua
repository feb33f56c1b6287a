-- wrk script: POST the benchmark GraphQL query with the token from $PATCHBAY_TOKEN.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("PATCHBAY_TOKEN")
wrk.body = '{"query":"{ integrations(first: 50) { edges { node { id name status } } } }"}'
