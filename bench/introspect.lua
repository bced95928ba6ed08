-- wrk script for bench/introspect.sh.
--
--   wrk ... -s bench/introspect.lua URL -- TOKENS_FILE THREADS BASIC_AUTH_B64
--       POST /oauth/introspect, token=<token> (form-encoded), HTTP Basic with the backend
--       credential. Thread i of THREADS takes the tokens on lines i+1, i+1+THREADS, ... of
--       TOKENS_FILE and cycles through them round-robin, so the threads together spread the
--       load over every token in the file. Requests are built once, in init(), so wrk spends
--       no per-request CPU on formatting (it shares the 2 cores with the server).
--   wrk ... -s bench/introspect.lua URL -- - THREADS
--       GET /healthz: the same client-side work for a handler that does (almost) nothing.
--
-- Every response is checked: non-200 statuses are counted, and in introspection mode so are
-- 200 answers without "active":true (a token the server did not recognise). done() prints
-- both; bench/introspect.sh fails the run if either is non-zero.

local threads = {}
local counter = 0

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

local function form_encode(s)
   return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local requests = {}
local n = 0
local i = 0
local introspect = false
non200 = 0
inactive = 0
responses = 0

function init(args)
   local tokens_file = args[1] or "-"
   local nthreads = tonumber(args[2] or "1")
   if tokens_file == "-" then
      requests[1] = wrk.format("GET", "/healthz")
      n = 1
      return
   end
   introspect = true
   local headers = {
      ["Authorization"] = "Basic " .. assert(args[3], "missing Basic credential argument"),
      ["Content-Type"] = "application/x-www-form-urlencoded",
   }
   local line_no = 0
   for line in io.lines(tokens_file) do
      if line ~= "" then
         if line_no % nthreads == id then
            n = n + 1
            requests[n] = wrk.format("POST", "/oauth/introspect", headers, "token=" .. form_encode(line))
         end
         line_no = line_no + 1
      end
   end
   assert(n > 0, "no tokens for thread " .. id .. " in " .. tokens_file)
   -- start each thread somewhere different in its slice
   i = (id * 7919) % n
end

function request()
   i = i + 1
   if i > n then i = 1 end
   return requests[i]
end

function response(status, headers, body)
   responses = responses + 1
   if status ~= 200 then
      non200 = non200 + 1
   elseif introspect and not string.find(body, '"active":true', 1, true) then
      inactive = inactive + 1
   end
end

function done(summary, latency, reqs)
   local total_non200, total_inactive, total = 0, 0, 0
   for _, t in ipairs(threads) do
      total_non200 = total_non200 + t:get("non200")
      total_inactive = total_inactive + t:get("inactive")
      total = total + t:get("responses")
   end
   local e = summary.errors
   io.write(string.format("bench: responses=%d non200=%d inactive=%d socket_errors=%d\n",
      total, total_non200, total_inactive, e.connect + e.read + e.write + e.timeout))
   io.write(string.format("bench: rps=%.0f p50_us=%d p99_us=%d max_us=%d\n",
      summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99), latency.max))
end
