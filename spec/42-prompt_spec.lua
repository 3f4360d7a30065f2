local cjson = require "cjson.safe"
local prompt = require "ringg.prompt"

local null = cjson.null


describe("ringg.prompt", function()


  describe("placeholders()", function()

    it("returns the variables in order of first use", function()
      assert.same({"callee_name", "company_name", "order_id"},
        prompt.placeholders("Hello @{{callee_name}}, this is @{{company_name}}"
          .. " about order @{{order_id}}."))
    end)

    it("lists a repeated name once", function()
      assert.same({"name", "date"},
        prompt.placeholders("@{{name}} @{{date}} @{{name}} @{{date}}"))
    end)

    it("allows blanks inside the braces", function()
      assert.same({"a", "b", "c"},
        prompt.placeholders("@{{ a }} @{{b  }} @{{\tc}}"))
    end)

    it("reads adjacent variables", function()
      assert.same({"a", "b", "c"}, prompt.placeholders("@{{a}}@{{b}}@{{c}}"))
    end)

    it("accepts underscores and digits after the first character", function()
      assert.same({"_x", "order_id2", "A"},
        prompt.placeholders("@{{_x}} @{{order_id2}} @{{A}}"))
    end)

    it("does not read a name that is not an identifier", function()
      assert.same({}, prompt.placeholders(
        "@{{2nd}} @{{first name}} @{{a-b}} @{{a.b}} @{{}} @{{ }} @{{é}}"))
    end)

    it("does not read braces without the @", function()
      assert.same({}, prompt.placeholders("{{name}} @ {{name}} @{name}"))
    end)

    it("does not read an extra opening brace as a variable", function()
      assert.same({}, prompt.placeholders("@{{{name}}}"))
      assert.same({"b"}, prompt.placeholders("@{{{a}}} @{{b}}"))
    end)

    it("ends a variable at the first closing pair", function()
      assert.same({"name"}, prompt.placeholders("@{{name}}}"))
      assert.same({}, prompt.placeholders("@{{name} }"))
      assert.same({}, prompt.placeholders("@{{name"))
    end)

    it("finds a variable that starts inside a broken one", function()
      assert.same({"b"}, prompt.placeholders("@{{a @{{b}}"))
      assert.same({"a"}, prompt.placeholders("@@{{a}}"))
    end)

    it("does not read a variable across lines", function()
      assert.same({}, prompt.placeholders("@{{\nname\n}}"))
    end)

    it("returns an empty list for text without variables", function()
      assert.same({}, prompt.placeholders(""))
      assert.same({}, prompt.placeholders("Hello, how can I help?"))
    end)

    it("returns an empty list for nil and null", function()
      assert.same({}, prompt.placeholders(nil))
      assert.same({}, prompt.placeholders(null))
    end)

    it("errors on a non-string", function()
      assert.has_error(function() prompt.placeholders(42) end,
        "bad argument #1 to 'placeholders' (string expected, got number)")
      assert.has_error(function() prompt.placeholders({"@{{a}}"}) end,
        "bad argument #1 to 'placeholders' (string expected, got table)")
    end)

  end)


  describe("compare()", function()

    local PROMPT = "You are calling @{{callee_name}} from @{{company_name}}"
      .. " about order @{{order_id}}."
    local INTRO = "Hi @{{ callee_name }}, do you have a minute?"

    it("returns nothing missing when every variable is given", function()
      assert.same({
        needed = {"callee_name", "company_name", "order_id"},
        missing = {},
        unused = {},
      }, prompt.compare({PROMPT, INTRO},
        {company_name = "Acme", order_id = "ORD-1"}))
    end)

    it("returns the variables that are not given", function()
      assert.same({
        needed = {"callee_name", "company_name", "order_id"},
        missing = {"company_name", "order_id"},
        unused = {},
      }, prompt.compare({PROMPT, INTRO}, nil))
    end)

    it("returns the values that no text uses", function()
      assert.same({
        needed = {"callee_name"},
        missing = {},
        unused = {"appointment_date", "order_id"},
      }, prompt.compare({INTRO},
        {order_id = "ORD-1", appointment_date = "2025-01-20"}))
    end)

    it("counts callee_name as given since Ringg fills it in", function()
      local r = prompt.compare({"Hello @{{callee_name}}"}, {})
      assert.same({}, r.missing)
    end)

    it("counts a callee_name no text uses as unused", function()
      assert.same({
        needed = {"order_id"},
        missing = {},
        unused = {"callee_name"},
      }, prompt.compare({"Order @{{order_id}}"},
        {order_id = "1", callee_name = "John"}))
    end)

    it("skips nil and null texts", function()
      assert.same({
        needed = {"callee_name", "company_name", "order_id"},
        missing = {"order_id"},
        unused = {},
      }, prompt.compare({nil, PROMPT, null, INTRO}, {company_name = "Acme"}))
    end)

    it("counts a null value as not given", function()
      assert.same({
        needed = {"callee_name", "company_name", "order_id"},
        missing = {"company_name"},
        unused = {},
      }, prompt.compare({PROMPT}, {company_name = null, order_id = "1"}))
    end)

    it("takes null values as no values", function()
      assert.same({
        needed = {"callee_name", "company_name", "order_id"},
        missing = {"company_name", "order_id"},
        unused = {},
      }, prompt.compare({PROMPT}, null))
    end)

    it("returns empty lists for texts without variables", function()
      assert.same({needed = {}, missing = {}, unused = {}},
        prompt.compare({}, {}))
      assert.same({needed = {}, missing = {}, unused = {"a"}},
        prompt.compare({"Hello"}, {a = "1"}))
    end)

    it("errors on arguments of the wrong type", function()
      assert.has_error(function() prompt.compare(PROMPT, {}) end,
        "bad argument #1 to 'compare' (table expected, got string)")
      assert.has_error(function() prompt.compare({PROMPT}, "x") end,
        "bad argument #2 to 'compare' (table expected, got string)")
      assert.has_error(function() prompt.compare({PROMPT, 42}, {}) end,
        "bad argument #1 to 'compare' "
        .. "(list of strings expected, got number in it)")
    end)

  end)


end)
