#!/bin/sh
# The rockspec builds and installs with Debian's luarocks, for Lua 5.4, into
# a tree under build/, and the installed module works. Prints TAP.
cd "$(dirname "$0")/../.." || exit 1
. spec/tap.sh

tree=build/rocktree
rm -rf "$tree"
# Debian keeps curl/curl.h under the multiarch include directory, where
# luarocks does not look by itself.
curl_incdir=/usr/include
multiarch=$(cc -print-multiarch 2>/dev/null)
[ -f "/usr/include/$multiarch/curl/curl.h" ] && \
  curl_incdir=/usr/include/$multiarch
luarocks --lua-version=5.4 --tree="$tree" make --deps-mode=none \
  rockspec/ringg-0.1.0-1.rockspec CURL_INCDIR="$curl_incdir" \
  >build/rocktree.log 2>&1
check $? "luarocks make builds and installs the rockspec"

out=$(LUA_PATH_5_4="$tree/share/lua/5.4/?.lua;$tree/share/lua/5.4/?/init.lua;;" \
  LUA_CPATH_5_4="$tree/lib/lua/5.4/?.so;;" lua5.4 -e '
    local ringg = require "ringg"
    assert(package.searchpath("ringg.core", package.cpath):find("rocktree"))
    local c = ringg.new{ api_key = os.getenv("RINGG_SANDBOX_KEY"),
                         base_url = os.getenv("RINGG_SANDBOX_URL") }
    local call = assert(c:call{ name = "Rock", mobile_number = "+15550123456",
      agent_id = "830f767a-397e-4b39-82ff-235cd344e2f9",
      number_pool_id = "2b7e1c1e-5a4f-4b7b-9a43-1f2d3c4b5a69" })
    io.write(ringg.VERSION, " ", call.status)' 2>&1)
[ "$out" = "0.1.0 registered" ]
check $? "the installed module places a call ($out)"
echo "1..$n"
exit $failed
