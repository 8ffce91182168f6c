from picoclaw_gateway.cli import main

raise SystemExit(main())
