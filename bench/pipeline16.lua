-- wrk script: 16 GET requests pipelined in one write, so that each round trip carries 16.
-- wrk counts every response, so requests/s and CPU per request stay comparable.
init = function(args)
  local batch = {}
  for i = 1, 16 do batch[i] = wrk.format("GET", wrk.path) end
  pipelined = table.concat(batch)
end

request = function()
  return pipelined
end
