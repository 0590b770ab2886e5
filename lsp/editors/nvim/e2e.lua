-- End-to-end test of the KNHK language server with Neovim's built-in
-- client (0.7 API: vim.lsp.start_client). Run by lsp/e2e_test.go as
--   KNHK_LSP=server KNHK_WS=dir nvim --headless --clean -u NONE -c "luafile e2e.lua"
-- where dir/main.knhk holds the scenario file. Exits 0 when every step passed.

local server = os.getenv('KNHK_LSP')
local ws = os.getenv('KNHK_WS')
local file = ws .. '/main.knhk'

local function fail(msg)
  io.stderr:write('FAIL: ' .. msg .. '\n')
  vim.cmd('cquit 1')
end

local function check(cond, msg)
  if not cond then
    fail(msg)
  end
  io.stdout:write('ok   ' .. msg .. '\n')
end

local function eq_range(r, l1, c1, l2, c2)
  return r ~= nil and r.start.line == l1 and r.start.character == c1 and r['end'].line == l2 and r['end'].character == c2
end

local ok, err = pcall(function()
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].filetype = 'knhk'
  local uri = vim.uri_from_bufnr(buf)

  local diags = {}
  local client_id = vim.lsp.start_client({
    name = 'knhk',
    cmd = { server },
    root_dir = ws,
    handlers = {
      ['textDocument/publishDiagnostics'] = function(_, result)
        if result.uri == uri and result.version then
          diags[result.version] = result.diagnostics
        end
      end,
    },
  })
  check(client_id ~= nil, 'start_client')
  vim.lsp.buf_attach_client(buf, client_id)
  local client = vim.lsp.get_client_by_id(client_id)
  check(vim.wait(20000, function() return client.initialized end, 10), 'initialized')
  check(client.offset_encoding == 'utf-16', 'offset encoding utf-16')

  -- open -> diagnostics on the bad token after "café 😀" (UTF-16 column 23).
  check(vim.wait(20000, function() return diags[0] ~= nil or diags[1] ~= nil end, 10), 'diagnostics on open')
  local d = diags[0] or diags[1]
  check(#d == 1 and eq_range(d[1].range, 6, 23, 6, 24), 'diagnostic range 6:23-6:24')

  -- edit: delete " #" (bytes, as Neovim counts: é is 2 bytes, 😀 is 4).
  local line = vim.api.nvim_buf_get_lines(buf, 6, 7, true)[1]
  local hash = line:find('#', 1, true)
  vim.api.nvim_buf_set_text(buf, 6, hash - 2, 6, hash, { '' })
  local version = vim.lsp.util.buf_versions[buf]
  check(vim.wait(20000, function() return diags[version] ~= nil end, 10), 'diagnostics after the edit')
  check(#diags[version] == 0, 'diagnostics cleared')

  local function at(l, c)
    return { textDocument = { uri = uri }, position = { line = l, character = c } }
  end
  local function request(method, params)
    local res, e = client.request_sync(method, params, 10000, buf)
    if not res then
      fail(method .. ': ' .. tostring(e))
    end
    if res.err then
      fail(method .. ': ' .. vim.inspect(res.err))
    end
    return res.result
  end

  local hover = request('textDocument/hover', at(7, 12))
  check(hover and hover.contents.value:find('task reserve(items: [string]) -> string', 1, true) ~= nil, 'hover shows the task')
  check(hover.contents.value:find('reserve books the items', 1, true) ~= nil, 'hover shows the doc comment')

  local def = request('textDocument/definition', at(8, 11))
  if def[1] then
    def = def[1]
  end
  check(def.uri == uri and eq_range(def.range, 7, 6, 7, 7), 'definition of r')

  local comp = request('textDocument/completion', at(7, 12))
  local items = comp.items or comp
  local labels = {}
  for _, it in ipairs(items) do
    labels[it.label] = true
  end
  check(labels['reserve'] and labels['return'], 'completion after "re"')

  local edits = request('textDocument/formatting', { textDocument = { uri = uri }, options = { tabSize = 2, insertSpaces = true } })
  check(#edits > 0, 'formatting returns edits')
  vim.lsp.util.apply_text_edits(edits, buf, client.offset_encoding)
  local ret = vim.api.nvim_buf_get_lines(buf, 8, 9, true)[1]
  check(ret == '  return r + note', 'formatting applied: ' .. ret)

  client.stop()
  check(vim.wait(10000, function() return client.is_stopped() end, 10), 'shutdown and exit')
end)

if not ok then
  fail(tostring(err))
end
vim.cmd('qall!')
