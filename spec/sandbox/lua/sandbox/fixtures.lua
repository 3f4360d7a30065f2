-- The sandbox workspace: its agents, phone numbers and credits. Ids are
-- fixed so tests, the demo and the README can name them.

local json = require "sandbox.json"

local array, null = json.array, json.null

local fixtures = {}

fixtures.POOL_ID = "2b7e1c1e-5a4f-4b7b-9a43-1f2d3c4b5a69"
fixtures.OTHER_POOL_ID = "7c9d2f4e-3b1a-4c5d-8e6f-9a0b1c2d3e4f"
fixtures.WORKSPACE_ID = "e3b0c442-98fc-4c14-9afb-f4c8996fb924"

local CREATED = "2025-06-02T09:15:27.114320+00:00"

-- The version that each agent's calls and webhooks report. Ringg's agent
-- object does not carry it, so it is kept apart.
local versions = {}

local function agent(id, name, version_id, variables, prompt, intro)
  versions[id] = { version_id = version_id, version_slug = "v1",
                   version_description = "Initial version" }
  return {
    id = id,
    agent_display_name = name,
    agent_type = "outbound",
    whitelisted_domains = array(),
    language = "en-US",
    form_fields = array(),
    voice = { id = "b1f4c6a2-6d0e-4f3a-9c7b-2e8d1a5f3c90", name = "Aria",
              voice_preview = null },
    agent_config = {
      custom_variables = array(variables),
      agent_prompt = prompt,
      intro_message = intro,
    },
    knowledge_base_id = null,
    knowledge_base_name = null,
    template_name = null,
    template_label = null,
    template_icon = null,
    created_at = CREATED,
    updated_at = CREATED,
    tools = array(),
    secondary_language = null,
    secondary_voice_id = null,
    template_type = null,
  }
end

local AGENTS = {
  agent("830f767a-397e-4b39-82ff-235cd344e2f9", "Appointment Reminder",
    "387bd8f1-5748-4006-b7fe-6a6455e9d45d",
    { "callee_name", "company_name", "appointment_date" },
    "You are a friendly scheduling assistant calling on behalf of "
      .. "@{{company_name}}. Remind @{{callee_name}} of the appointment on "
      .. "@{{appointment_date}} and ask whether they can attend.",
    "Hello @{{callee_name}}, this is a quick reminder about your appointment."),
  agent("a31f36c4-c8ea-4c4b-9ad6-743dabacafbd", "Order Status",
    "4c2a9e7d-1b3f-4d6a-8e0c-5f7b9d1e3a26",
    { "callee_name", "order_id" },
    "You are an order support assistant. Tell @{{callee_name}} the status "
      .. "of order @{{order_id}} and answer questions about delivery.",
    "Hi @{{callee_name}}, I am calling about your order @{{order_id}}."),
  agent("5d7cdc09-1111-4a2b-9c3d-0123456789ab", "General Follow-up",
    "9e8d7c6b-5a49-4382-b1c0-d9e8f7a6b5c4",
    {},
    "You are a polite assistant following up on a recent enquiry. Keep the "
      .. "call short and thank the person for their time.",
    "Hello, this is a short follow-up call about your recent enquiry."),
}

local by_id = {}
for _, a in ipairs(AGENTS) do by_id[a.id] = a end

-- The agent with this id, or nil.
function fixtures.agent(id)
  return by_id[id]
end

function fixtures.agents()
  return AGENTS
end

-- {version_id, version_slug, version_description} of an agent.
function fixtures.version(agent)
  return versions[agent.id]
end

local function number(id, e164, pool, provider, display_name, agent_id, extra)
  local a = by_id[agent_id]
  local n = {
    id = id,
    number = e164,
    created_at = "2024-12-16T13:03:29.947147+00:00",
    call_count = 0,
    agent = a and { id = a.id, agent_display_name = a.agent_display_name }
      or null,
    is_inbound_enabled = true,
    is_test_number = false,
    tags = array(),
    is_spam = false,
    spam_message = null,
    provider = provider,
    display_name = display_name,
    owner = "sandbox@ringg.invalid",
    is_custom_number = false,
    telephony_id = "0b84b167-2c6d-4e1f-9a3b-7d5e8f1a2c40",
    number_pool_id = pool or null,
  }
  for k, v in pairs(extra or {}) do n[k] = v end
  return n
end

local NUMBERS = {
  number("5d7f9a2b-0c1d-4e2f-8a3b-4c5d6e7f8a91", "+12025550141",
    fixtures.POOL_ID, "twilio", "Sales Line 1",
    "830f767a-397e-4b39-82ff-235cd344e2f9"),
  number("5d7f9a2b-0c1d-4e2f-8a3b-4c5d6e7f8a92", "+12025550142",
    fixtures.POOL_ID, "twilio", "Sales Line 2",
    "a31f36c4-c8ea-4c4b-9ad6-743dabacafbd"),
  number("5d7f9a2b-0c1d-4e2f-8a3b-4c5d6e7f8a93", "+919876500001",
    fixtures.POOL_ID, "plivo", "India Line", nil),
  number("5d7f9a2b-0c1d-4e2f-8a3b-4c5d6e7f8a94", "+442071838750",
    fixtures.OTHER_POOL_ID, "twilio", "London Line", nil,
    { is_inbound_enabled = false }),
  number("5d7f9a2b-0c1d-4e2f-8a3b-4c5d6e7f8a95", "+12025550199",
    nil, "exotel", "Test Line", nil,
    { is_test_number = true, tags = array { "test" } }),
}

function fixtures.numbers()
  return NUMBERS
end

-- The workspace number with this id, or nil.
function fixtures.number(id)
  for _, n in ipairs(NUMBERS) do
    if n.id == id then return n end
  end
end

-- The first number of a pool: the sandbox does not rotate numbers.
function fixtures.pool_number(pool_id)
  for _, n in ipairs(NUMBERS) do
    if n.number_pool_id == pool_id then return n end
  end
end

function fixtures.workspace()
  return {
    id = fixtures.WORKSPACE_ID,
    name = "Ringg Sandbox",
    created_at = "2026-04-15T10:30:00.000000+00:00",
    credits = 3025.0,
    locked_credits = 0.0,
    api_key = "redacted-api-key",
  }
end

return fixtures
