from hostkeeper.commands.cli import main

raise SystemExit(main())
