from herdsman.cli import main

raise SystemExit(main())
