require "variables"; set "to" "evil.test"; redirect "x@${to}";
include :personal "main";
