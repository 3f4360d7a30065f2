-- The contacts of spec/suites/campaign.sh: row i of n, each with the
-- outcome the campaign should reach for it. Names are unique, so a row
-- can be found among the calls the sandbox stored.

local M = {}

-- By i % 50: rows that go to a sandbox fault or are broken on purpose
local BY_50 = {
  [7] = { class = "rate_limited", mobile = "+15550100429" },
  [13] = { class = "server", mobile = "+15550100500" },
  [19] = { class = "server", mobile = "+15550100503" },
  [23] = { class = "cut", mobile = "+15550100601" },
  [29] = { class = "malformed", mobile = "+15550100603" },
  [31] = { class = "invalid", mobile = "+91 98765 43210" },
  [43] = { class = "closed", mobile = "+15550100604" },
}

-- By i % 150: two calls whose reply never comes
local BY_150 = {
  [47] = { class = "silent", mobile = "+15550100602" },
}


-- The list of n rows: {class, name, mobile, company, date}.
function M.rows(n)
  local rows = {}
  for i = 1, n do
    local row = BY_150[i % 150] or BY_50[i % 50]
      or { class = "normal", mobile = ("+9198765%05d"):format(i) }
    row = { class = row.class, mobile = row.mobile,
            name = ("Contact %04d"):format(i),
            company = "Acme Corp", date = "2025-01-20" }
    if i % 50 == 37 then
      row.name = ("Kumar, Ravi %04d"):format(i)
    elseif i % 50 == 11 then
      row.name = ('Ana "Annie" Silva %04d'):format(i)
    elseif i % 50 == 17 then
      row.company = ("Acme\nLabs, %04d"):format(i)
    elseif i % 100 == 53 then
      row.class, row.name = "invalid", ""
    end
    rows[i] = row
  end
  return rows
end


local function quote(v)
  if v:find('[,"\r\n]') then return '"' .. v:gsub('"', '""') .. '"' end
  return v
end


-- Writes the rows as CSV with CRLF line ends and a column the campaign
-- does not map.
function M.write(rows, path)
  local f = assert(io.open(path, "wb"))
  f:write("Name,Phone,Company,Appointment_Date,Notes\r\n")
  for i, r in ipairs(rows) do
    f:write(table.concat({ quote(r.name), quote(r.mobile),
      quote(r.company), r.date, "row " .. i }, ","), "\r\n")
  end
  f:close()
end


return M
