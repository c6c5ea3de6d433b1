-- lighttpd-errors.lua - The Eye's answer for every error lighttpd makes by
-- itself (mod_magnet, run as lighttpd.conf's server.error-handler).
--
-- eye.fcgi answers every request it sees with a JSON error body; lighttpd
-- answers some requests before eye.fcgi sees them (a malformed request, a
-- body above server.max-request-size, an unknown method...) or instead of
-- it (a worker killed while answering, or not listening). lighttpd calls
-- its error handler only for those answers of its own, never for an answer
-- eye.fcgi gave, so this script sees exactly them and replaces lighttpd's
-- HTML page with the shape eye.fcgi writes:
--
--   {"error":{"code":"...","pointer":"","message":"..."}}
--
-- The answers are the files beside this script, NNN.asis for status NNN:
-- header lines (Status, Content-Type, Retry-After...), a blank line, the
-- body. It is Apache's mod_asis format: deploy/apache-eye.conf.in sends
-- the same files as its ErrorDocuments, so both servers answer alike.
--
-- A 5xx lighttpd makes itself (500 when the worker died mid-request, 502
-- for a broken answer, 503 when no worker listens, 504) is answered with
-- 503.asis, 503 backend_unavailable with Retry-After: lighttpd restarts a
-- dead eye.fcgi at once, so the client should retry (with the same event
-- ids, which are stored once). 501 and 505 are the client's doing and
-- have files of their own. Any other status without a file gets 4xx.asis,
-- which has no Status line and so keeps the status.
--
-- A client asking for the handler's URL itself has no REDIRECT_STATUS:
-- the script leaves that request to eye.fcgi, which answers 404.

local status = tonumber(lighty.r.req_env["REDIRECT_STATUS"] or "")
if status == nil or status < 400 then
  return 0
end

-- The folder of this script: mod_magnet names the chunk after its path.
local dir = debug.getinfo(1, "S").source:gsub("^@", ""):match("^(.*)/[^/]*$") or "."

local function read(name)
  local f = io.open(dir .. "/" .. name, "rb")
  if f == nil then
    return nil
  end
  local text = f:read("a")
  f:close()
  return text
end

-- A 5xx lighttpd makes itself, but for 501 and 505, means eye.fcgi did
-- not answer: the client should come back.
local retry = status >= 500 and status ~= 501 and status ~= 505

local text = read(status .. ".asis") or read(retry and "503.asis" or "4xx.asis")
local head, body = (text or ""):match("^(.-)\r?\n\r?\n(.*)$")
if head == nil then
  -- The folder is incomplete or a file is broken: say so in the error
  -- log, and still answer in the same shape.
  print("lighttpd-errors.lua: no usable answer for " .. status .. " in " .. dir)
  local code = "request_refused"
  if retry then
    status, code = 503, "backend_unavailable"
    lighty.r.resp_header["Retry-After"] = "1"
  end
  lighty.r.resp_header["Content-Type"] = "application/json"
  lighty.r.resp_body.set({ '{"error":{"code":"' .. code .. '","pointer":"","message":"HTTP ' .. status .. '"}}\n' })
  return status
end

for line in head:gmatch("[^\r\n]+") do
  local name, value = line:match("^([%w-]+):%s*(.-)%s*$")
  if name ~= nil and name:lower() == "status" then
    status = tonumber(value:match("^%d%d%d")) or status
  elseif name ~= nil then
    lighty.r.resp_header[name] = value
  end
end
lighty.r.resp_body.set({ body })

-- Returning a status makes this the answer; lighttpd sends it as it is.
return status
