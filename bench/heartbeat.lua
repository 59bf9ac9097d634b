-- heartbeat.lua - wrk's requests for bench/https.sh.  Every connection
-- is one wrk thread (-t N -c N), one request at a time over its
-- kept-alive connection.  Two modes:
--
--   wrk -t N -c N -s bench/heartbeat.lua URL -- bodies PREFIX AUTHORIZATION
--       thread i POSTs the file PREFIX<i>.json again and again.  Replies
--       are not parsed (that would cost the client, which shares the
--       machine); bench/https.sh checks a reply of each body with curl
--       before and after, and wrk counts any status past 399.
--
--   wrk -t N -c N -d 3600s -s bench/heartbeat.lua URL -- \
--           register TEMPLATE AUTHORIZATION COUNT DONE N
--       COUNT runtimes registered: thread i sends TEMPLATE (a full
--       heartbeat) with @ID@ replaced by 00000000-0000-4000-8000-<12
--       digits> and @NAME@ by r<7 digits>, for the runtimes j ≡ i (mod N),
--       and when it has all its replies it writes DONE<i> ("REPLIES BAD",
--       BAD those not 201 acknowledged) and stops.  wrk itself runs until
--       its -d: bench/https.sh interrupts it once every DONE file is there.
local threads = 0

function setup(thread)
	thread:set("idx", threads)
	threads = threads + 1
end

local function post(body)
	return wrk.format("POST", nil, {
		["Authorization"] = auth,
		["Content-Type"] = "application/json",
	}, body)
end

local function slurp(path)
	local f = assert(io.open(path, "rb"))
	local s = f:read("*a")
	f:close()
	return s
end

local function registration(i)
	local id = string.format("00000000-0000-4000-8000-%012d", i)
	return post((template:gsub("@ID@", id):gsub("@NAME@",
		string.format("r%07d", i))))
end

function init(args)
	auth = args[3]
	if args[1] == "bodies" then
		req = post(slurp(args[2] .. idx .. ".json"))
		request = function() return req end
		response = nil
		return
	end
	template = slurp(args[2])
	count = tonumber(args[4])
	donefile = args[5] .. idx
	nthreads = tonumber(args[6])
	mine = math.floor((count - 1 - idx) / nthreads) + 1
	nextid, replies, bad, finished = idx, 0, 0, false
	request = function()
		local i = nextid
		if i >= count then
			i = idx     -- asked once more after the last: harmless
		else
			nextid = nextid + nthreads
		end
		return registration(i)
	end
	response = function(status, headers, b)
		if finished then
			return
		end
		replies = replies + 1
		if status ~= 201 or not b:find('"acknowledged":true', 1, true) then
			bad = bad + 1
		end
		if replies >= mine then
			finished = true
			local f = assert(io.open(donefile, "w"))
			f:write(replies .. " " .. bad .. "\n")
			f:close()
			wrk.thread:stop()
		end
	end
end
